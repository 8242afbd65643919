"""The checking stage: everything that decides whether a campaign may be sent.

- ``structure``: a campaign file against the authoring schema (before rendering);
- ``schema``: one rendered message against its provider schema;
- ``explain``: jsonschema's verdicts turned into errors a person acts on;
- ``rules``: named rules for what JSON Schema cannot say (bytes, clocks, JSON in strings);
- ``validate``: the stage itself, run by ``pushops validate``, plan and apply.

Only ``validate`` reaches up the pipeline (it renders); the other modules are leaves that
campaign loading, render and compile may use. This file imports nothing on purpose.
"""
