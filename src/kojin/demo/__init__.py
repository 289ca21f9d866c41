"""Everything that invents people, insurers, agencies, clinics and cards for the demo and the benchmarks.

No party imports this package: the parties hold only what a real deployment would
hold, and the demo fills them through the same services a municipality or an
insurer would call.
"""
