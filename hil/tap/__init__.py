"""The wire tap: a loopback proxy between a target and its server that records the wire.

To be filled: choice and measurements.
"""
