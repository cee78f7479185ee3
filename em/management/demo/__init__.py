"""What `seed_demo` records: a real training job, the runs made of it, and a server for the SDK to reach."""
