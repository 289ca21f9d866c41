"""Online eligibility (オンライン資格確認): insurers, the eligibility service, the clinic terminal."""
