"""Load tests of the portal: Locust journeys, the volume model, the SLO gate and the report."""
