"""Identity: principals, credentials, the policy language and IAM/STS data."""
