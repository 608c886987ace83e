print("PrefixRouterBench: not yet implemented")
