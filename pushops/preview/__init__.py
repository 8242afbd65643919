"""What a delivery looks like to the people who get it, worked out from its request alone.

Plain functions of one request (EMAS PushTask params or an mPaaS broadcast) and of data kept
beside them: how much of a notification each device surface shows (``data/
display_profiles.yaml``) and which vendor channels refuse a text as too long (``data/
vendor_limits.yaml``), each figure with its sources and the date they were read. Nothing here
knows about plans or ledgers: the plan views (text, Markdown, JSON, HTML) and the plan's
vendor-limit findings call these.
"""
