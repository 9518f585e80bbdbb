"""Scenario step kinds: one module per kind, found through a registry.

A kind (`hil.steps.kind.StepKind`) declares its name, JSON Schema fragment, frozen
model, builder (load-time checks), capabilities, handler and README row together in
`hil/steps/kinds/<name>.py`; `hil.steps.registry` lists them (built-ins, then the
`teddy_hil.steps` entry-point group). Handlers get a `StepContext` whose server is the
`ServerSide` interface, so this package never imports the server or the emulator (an
import-linter contract checks it).
"""
