"""Bad input, crashes and resumes, fuzzing, exact step arithmetic, invariants,
and every argument check."""
