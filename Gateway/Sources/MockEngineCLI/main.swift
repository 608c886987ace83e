import MockEngine
print(MockEngineInfo.name)
