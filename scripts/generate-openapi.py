#!/usr/bin/env python3
"""Writes Services/Gateway/HTTP/openapi.json: the gateway's HTTP/JSON face, from the same .proto files as
the native face, with schemas in the protobuf JSON mapping (lowerCamelCase names, 64-bit integers as
strings, enums by name). Run by scripts/generate-openapi.sh, which makes the descriptor set with protoc."""
import json
import sys

from google.protobuf import descriptor_pb2

INT64 = {descriptor_pb2.FieldDescriptorProto.TYPE_INT64, descriptor_pb2.FieldDescriptorProto.TYPE_UINT64,
         descriptor_pb2.FieldDescriptorProto.TYPE_SINT64, descriptor_pb2.FieldDescriptorProto.TYPE_FIXED64,
         descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED64}
INT32 = {descriptor_pb2.FieldDescriptorProto.TYPE_INT32, descriptor_pb2.FieldDescriptorProto.TYPE_UINT32,
         descriptor_pb2.FieldDescriptorProto.TYPE_SINT32, descriptor_pb2.FieldDescriptorProto.TYPE_FIXED32,
         descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED32}
F = descriptor_pb2.FieldDescriptorProto


def main(descriptor_set, output):
    files = descriptor_pb2.FileDescriptorSet()
    files.ParseFromString(open(descriptor_set, "rb").read())
    messages, enums, comments, services = {}, {}, {}, {}

    def walk(file, prefix, container, path):
        for index, message in enumerate(container.message_type if hasattr(container, "message_type") else container.nested_type):
            name = f"{prefix}.{message.name}"
            messages[name] = message
            here = path + [4 if hasattr(container, "message_type") else 3, index]
            comments[name] = (file, tuple(here))
            for field_index, field in enumerate(message.field):
                comments[f"{name}#{field.name}"] = (file, tuple(here + [2, field_index]))
            walk(file, name, message, here)
        for enum in (container.enum_type):
            enums[f"{prefix}.{enum.name}"] = enum

    for file in files.file:
        walk(file, "." + file.package, file, [])
        for service in file.service:
            services[f"{file.package}.{service.name}"] = service
    locations = {}
    for file in files.file:
        for location in file.source_code_info.location:
            text = (location.leading_comments or location.trailing_comments).strip()
            if text:
                locations[(file.name, tuple(location.path))] = " ".join(line.strip() for line in text.splitlines())

    def describe(key):
        file, path = comments.get(key, (None, None))
        return locations.get((file.name, path)) if file else None

    def schema_name(full):
        return full.split(".")[-1] if full.count(".") <= 4 else "_".join(full.split(".")[4:])

    needed, schemas = [], {}

    def ref(full):
        if full not in needed:
            needed.append(full)
        return {"$ref": f"#/components/schemas/{schema_name(full)}"}

    def field_schema(field):
        if field.type == F.TYPE_MESSAGE:
            entry = messages[field.type_name]
            if entry.options.map_entry:
                return {"type": "object", "additionalProperties": field_schema(entry.field[1])}
            item = ref(field.type_name)
        elif field.type == F.TYPE_ENUM:
            item = {"type": "string", "enum": [value.name for value in enums[field.type_name].value]}
        elif field.type in INT64:
            item = {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
        elif field.type in INT32:
            item = {"type": "integer", "format": "int32"}
        elif field.type == F.TYPE_BOOL:
            item = {"type": "boolean"}
        elif field.type == F.TYPE_BYTES:
            item = {"type": "string", "format": "byte"}
        elif field.type in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
            item = {"type": "number"}
        else:
            item = {"type": "string"}
        if field.label == F.LABEL_REPEATED:
            return {"type": "array", "items": item}
        return item

    service = services["jiaxing.benefits.v1.Gateway"]
    paths = {"/v1": {"get": {"operationId": "ListMethods", "summary": "The gateway's methods and their paths.",
                               "responses": {"200": {"description": "The methods.", "content": {"application/json": {"schema": {"type": "object"}}}}}}}}
    for method in service.method:
        request, response = ref(method.input_type), ref(method.output_type)
        streaming_in, streaming_out = method.client_streaming, method.server_streaming
        # Generators take JSON only: a streaming method is described by its JSON form (ScreenBatch: an array in,
        # an array out; WatchInbox: a response without a parsed body, ListInbox being its paged pair), and its
        # NDJSON form in `x-ndjson`, which generators skip without a warning.
        body = {"application/json": {"schema": {"type": "array", "maxItems": 1000, "items": request} if streaming_in else request}}
        result = {"application/json": {"schema": {"type": "array", "items": response} if streaming_in else response}}
        extensions = {}
        if streaming_in or streaming_out:
            extensions["x-ndjson"] = {
                "description": "Send `content-type: application/x-ndjson` (one request a line, any number) and the answer streams back as NDJSON, one line as soon as it is ready"
                               + (": {line, result} or {line, error} for each request line, in order" if streaming_in else ": one object a line, for as long as the call lasts"),
                "request": request if streaming_in else None, "response": response}
        if streaming_out and not streaming_in:
            # A watch never ends by itself: its body is NDJSON for as long as the caller listens.
            result = None
        if method.name == "PublishRecords":
            # A department's whole list in one upload (GatewayHTTP+PublishUpload.swift): answered as NDJSON.
            extensions["x-upload"] = {
                "description": "Send the whole list as `application/x-ndjson` (one PublishedRecord a line) or `text/csv` (a header row naming the columns credit_code, reference, type (recognition, project, fact), id, and as the type needs level, date, year, amount, flag, name, withdrawn; then one record a row); the answer is NDJSON: each refused line, progress after each 1,000 records, the totals last",
                "record": ref(".jiaxing.benefits.v1.PublishedRecord")}
        paths[f"/v1/{method.name}"] = {"post": {
            "operationId": method.name,
            "summary": describe_method(files, method) or method.name,
            "parameters": [
                {"name": "timeout-ms", "in": "header", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 3600000},
                 "description": "How long the caller waits; carried to every downstream call (default 30000)."},
                {"name": "traceparent", "in": "header", "required": False, "schema": {"type": "string"},
                 "description": "W3C trace context, carried through every hop."},
            ],
            "requestBody": {"required": True, "content": body},
            "responses": {"200": {"description": "Done." if result else "The notices, as NDJSON (x-ndjson), for as long as the call lasts.", **({"content": result} if result else {})},
                          "default": {"description": "Refused: the status code's name and a message naming the field.",
                                      "content": {"application/json": {"schema": ref(".mesh.http.Error")}}}},
            **{key: ({k: v for k, v in value.items() if v is not None}) for key, value in extensions.items()},
        }}

    index = 0
    while index < len(needed):
        full = needed[index]
        index += 1
        if full == ".mesh.http.Error":
            schemas["Error"] = {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string", "description": "invalidArgument, permissionDenied, notFound, resourceExhausted (with Retry-After), …"},
                "message": {"type": "string"}}}
            continue
        message = messages[full]
        properties = {}
        for field in message.field:
            schema = field_schema(field)
            text = describe(f"{full}#{field.name}")
            if text and "$ref" not in schema:
                schema = dict(schema, description=text)
            properties[field.json_name] = schema
        entry = {"type": "object", "properties": properties, "additionalProperties": False}
        text = describe(full)
        if text:
            entry["description"] = text
        schemas[schema_name(full)] = entry

    document = {
        "openapi": "3.1.0",
        "info": {"title": "Jiaxing enterprise-benefits mesh: gateway HTTP/JSON face", "version": "1.0.0",
                 "description": "The same methods as the native mesh protocol (gateway.proto), as JSON in the protobuf JSON mapping. "
                                "HTTP/1.1 and HTTP/2 over TLS with a client certificate from the mesh CA: the certificate names the caller "
                                "(a county, a department, the operator). Generated by scripts/generate-openapi.sh; do not edit."},
        "servers": [{"url": "https://localhost:7443"}],
        "security": [{"meshCertificate": []}],
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items())),
                       "securitySchemes": {"meshCertificate": {"type": "mutualTLS", "description": "A client certificate issued by the mesh CA (`mesh certs`)."}}},
    }
    with open(output, "w") as out:
        json.dump(document, out, ensure_ascii=False, indent=1)
        out.write("\n")


def describe_method(files, method):
    for file in files.file:
        for service_index, service in enumerate(file.service):
            for method_index, candidate in enumerate(service.method):
                if candidate is method:
                    for location in file.source_code_info.location:
                        if list(location.path) == [6, service_index, 2, method_index] and location.leading_comments.strip():
                            return " ".join(line.strip() for line in location.leading_comments.strip().splitlines())
    return None


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
