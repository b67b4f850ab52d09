"""The schedules: the contract every schedule keeps (cases.py drives it),
bounds, and each family against closed forms and peers."""
