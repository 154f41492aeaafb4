"""Reads a Stinger topic with other people's tools: confluent-kafka's consumer and, for the schema registry's wire
format, its AvroDeserializer; for Stinger's default single-object encoding, fastavro with schemas/bundled.
Each record's first byte says which (00: registry, C3: single-object). Prints each record as one line of Avro JSON
encoding (written with the record's schema), then exits once --count records were read (exit 3 when --timeout-ms
passes first).

  python stinger_topic_reader.py --bootstrap HOST:PORT --topic stinger.events --count N \\
      [--registry http://HOST:PORT/apis/ccompat/v7] [--schemas DIR/schemas/bundled] [--group ID] [--timeout-ms MS]
"""
import argparse
import io
import json
import os
import sys
import time
import uuid

import fastavro
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def registry_decoder(url):
    """Registry wire format: 00, the 4-byte schema id, the body. The deserializer fetches the writer schema by id."""
    client = SchemaRegistryClient({"url": url})
    deserialize = AvroDeserializer(client, return_record_name=True)

    def decode(topic, value):
        schema_id = int.from_bytes(value[1:5], "big")
        writer = fastavro.parse_schema(json.loads(client.get_schema(schema_id).schema_str))
        return writer, deserialize(value, SerializationContext(topic, MessageField.VALUE))

    return decode


def single_object_decoder(schemas_dir):
    """Single-object encoding: C3 01, the 8-byte little-endian CRC-64-AVRO fingerprint, the body."""
    writers = {}
    for name in os.listdir(schemas_dir):
        if name.endswith(".avsc"):
            with open(os.path.join(schemas_dir, name)) as f:
                schema = fastavro.parse_schema(json.load(f))
            canonical = fastavro.schema.to_parsing_canonical_form(schema)
            fingerprint = fastavro.schema.fingerprint(canonical, "CRC-64-AVRO")
            writers[bytes.fromhex(fingerprint)] = schema  # as the header holds it: little-endian

    def decode(_topic, value):
        if value[:2] != b"\xc3\x01" or value[2:10] not in writers:
            raise ValueError("not a single-object record of a known schema")  # dead-letter it
        writer = writers[value[2:10]]
        return writer, fastavro.schemaless_reader(io.BytesIO(value[10:]), writer, return_record_name=True)

    return decode


def avro_json(schema, record):
    out = io.StringIO()
    fastavro.json_writer(out, schema, [record])
    return out.getvalue().strip()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--registry")
    parser.add_argument("--schemas")
    parser.add_argument("--group", default=f"reader-{uuid.uuid4()}")
    parser.add_argument("--timeout-ms", type=int, default=60000)
    args = parser.parse_args()
    from_registry = registry_decoder(args.registry) if args.registry else None
    single_object = single_object_decoder(args.schemas) if args.schemas else None
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",  # the pipeline writes in transactions
    })
    consumer.subscribe([args.topic])
    deadline = time.monotonic() + args.timeout_ms / 1000
    read = 0
    try:
        while read < args.count:
            if time.monotonic() > deadline:
                print(f"read {read} of {args.count} records before the timeout", file=sys.stderr)
                sys.exit(3)
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                raise RuntimeError(message.error())
            # The first byte tells the formats apart, so a topic switched to the registry reads on.
            decode = from_registry if message.value()[:1] == b"\x00" else single_object
            schema, record = decode(message.topic(), message.value())
            print(avro_json(schema, record), flush=True)
            read += 1
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
