"""The peers: their own test suites ported around their expected values, and
the independent references (oracles) the other tests compare with."""
