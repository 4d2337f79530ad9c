"""Wire formats only, driven by botocore's service models: which service and operation a request is,
its parameters, and the serialized response or error. Never imports services."""
