"""pushops: push notifications as code for Alibaba Cloud EMAS Push and mPaaS."""

__version__ = "0.1.0"
