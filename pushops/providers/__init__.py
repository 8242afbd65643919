"""Provider clients and request signing for EMAS Push and mPaaS."""
