print("BENCH first line", flush=True)
