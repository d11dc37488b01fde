"""The single-machine pipeline: an edge half and a cloud half that `mallflow demo` joins.

`shared` imports neither side. Each side implements its half of this contract and names
it in the `mallflow.demo` entry-point group; the demo command loads both by name and
hands envelopes from one to the other in process (or lets them meet on Kafka).
"""

from shared.embedded.contract import CloudHalf, DemoOptions, EdgeHalf, EnvelopeHandler, load_halves

__all__ = ["CloudHalf", "DemoOptions", "EdgeHalf", "EnvelopeHandler", "load_halves"]
