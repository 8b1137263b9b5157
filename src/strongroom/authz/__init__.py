"""Authorization: turning a request into a policy-engine question and a decision."""
