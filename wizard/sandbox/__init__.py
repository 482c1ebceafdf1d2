"""The embedded AWS emulator: moto's server plus what moto lacks, and a simulated fleet.

Never imports `checks/`: the emulator is the ground truth that diagnose is tested against, so the
two must reach their verdicts independently.
"""
