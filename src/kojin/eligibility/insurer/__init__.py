"""Medical insurers (医療保険者) as parties: members, 資格確認書, copies for the eligibility service."""
