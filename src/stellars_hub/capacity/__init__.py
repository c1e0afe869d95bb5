"""Capacity: how many labs a host runs at once (admission before every start) and the labs'
own networks from the platform's address pool (see ``stellars_hub.labnet``)."""
