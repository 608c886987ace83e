import PrefixGateway
print(PrefixGatewayInfo.name)
