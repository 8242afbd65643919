"""Team policies checked in plan: quiet hours, frequency caps, vendor rules, blast radius,
required fields (docs/policies.md).

Layering: policies run on what plan decided to send, so this package sits between the
commands and the plan engine (commands -> apply -> policy -> plan -> ...). The plan engine
knows them only as its ``SendPolicies`` protocol.
"""
