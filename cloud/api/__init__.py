"""Query API and dashboard (FastAPI): reads the analytics for operators and integrators."""
