// meshctl: not implemented yet.
print("meshctl")
