"""Run-wide rules: what must hold over a whole scenario run, not in one step's window.

Owns the built-in protocol invariants (`hil.rules.invariants`, each with an id and its
SPEC section, on by default, switched off per scenario with `exempt:` and a reason) and
the scenario's own `forbid:` list (`hil.rules.forbid`). The runner's watch checks every
new record of the wire log, the device console and the server's events against them and
fails the step in progress at the first hit, with the evidence (`hil.runner.watch`).
"""
