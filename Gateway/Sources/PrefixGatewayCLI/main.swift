import PrefixGateway
print("prefix-gateway")
