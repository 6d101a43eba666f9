"""The vendor registry. Each folder here is one vendor API, named as it is everywhere (backend
kind, emulator, fault settings, samples), and holds all of it: its connector
(`connector.CONNECTORS`), request signing, its emulator (routes, seed samples, gateway
checks, `PATHS` for faults), its demo backend (`demo`) and its notes (`README.md`). An API
that extends another of its vendor's (EnOS v2.0 of v2.1, Data Map of Factory's auth) imports
what they share from that folder. Adding an API is a folder and one line in
instances/registry.py."""
