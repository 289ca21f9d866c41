"""The clinic (医療機関・薬局): reception terminal, consent walk, clinic-facing APIs and ``/portal/medical``.

A clinic is a relying party of the eligibility service (オンライン資格確認) and of the
e-health record service (電子カルテ情報共有サービス); it stands above both, so that
neither of those services needs to know the other.
"""
