"""One router per concern: sites, the analytics reads, live occupancy, the dashboard page."""
