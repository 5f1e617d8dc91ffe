# Encapsulation benchmarks (bench-encap): see bench/run-encap.sh.
