"""What every vendor connector shares: the Connector base and RunRecord (base), the HTTP seam
with retries (http), and time and status parsing (normalize). The registry of the vendors'
connectors is instances.registry, above both."""
