"""The shared vocabulary of socialrx: enums, workflow messages, codes and tables. No I/O."""
