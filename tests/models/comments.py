"""Comments of our own for the fast-path tests: benign and sharp, empty, and one over several windows."""

MIXED_COMMENTS = [
    "The festival parade starts at noon on Saturday.",
    "I think the new schedule is confusing for older riders.",
    "Great interview, thanks for asking the hard questions.",
    "This is the worst take I have read all year.",
    "Could someone explain why the school budget went down?",
    "",
    "Not sure I agree, but it is an interesting argument. " * 40,  # several windows
]
