"""The community-service directory, following HSDS 3.0 and Open Referral UK."""
