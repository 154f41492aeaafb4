// Reads a Stinger topic with other people's tools: franz-go's Kafka consumer, its schema registry client (pkg/sr)
// for the registry's wire format, and hamba/avro with the schemas of schemas/bundled for Stinger's default
// single-object encoding. Each record's first byte says which (00: registry, C3: single-object). Prints each record as
// one JSON line of the fields a forwarder typically keys on (id, node, kind, process binary), then exits once -count
// records were read (exit 3 when -timeout passes first).
//
//	go run . -bootstrap HOST:PORT -topic stinger.events -count N \
//	    [-registry http://HOST:PORT/apis/ccompat/v7] [-schemas DIR/schemas/bundled]
package main

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

func main() {
	bootstrap := flag.String("bootstrap", "127.0.0.1:9092", "Kafka bootstrap address")
	topic := flag.String("topic", "stinger.events", "topic to read")
	count := flag.Int("count", 1, "records to read before exiting")
	registry := flag.String("registry", "", "Confluent-compatible registry API (registry wire format)")
	schemas := flag.String("schemas", "", "schemas/bundled (single-object encoding)")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	// Single-object encoding: C3 01, the CRC-64-AVRO fingerprint (little-endian), the body. The 10-byte headers come
	// from fingerprints.json (hamba/avro's own CRC-64 fingerprint is not over the specification's canonical form).
	byHeader := map[string]avro.Schema{}
	if *schemas != "" {
		text, err := os.ReadFile(filepath.Join(*schemas, "fingerprints.json"))
		check(err)
		var versions map[string][]struct{ Header string }
		check(json.Unmarshal(text, &versions))
		for name, list := range versions {
			text, err := os.ReadFile(filepath.Join(*schemas, name+".avsc")) // the current version: the last listed
			check(err)
			schema, err := avro.ParseBytesWithCache(text, "", &avro.SchemaCache{})
			check(err)
			byHeader[list[len(list)-1].Header] = schema
		}
	}
	// Registry wire format: 00, the 4-byte big-endian schema id, the body; writer schemas fetched by id, once.
	var registryClient *sr.Client
	byID := map[uint32]avro.Schema{}
	if *registry != "" {
		var err error
		registryClient, err = sr.NewClient(sr.URLs(*registry))
		check(err)
	}
	writerOf := func(value []byte) (avro.Schema, []byte) {
		if len(value) >= 5 && value[0] == 0 {
			id := binary.BigEndian.Uint32(value[1:5])
			if byID[id] == nil {
				got, err := registryClient.SchemaByID(ctx, int(id))
				check(err)
				byID[id], err = avro.ParseWithCache(got.Schema, "", &avro.SchemaCache{})
				check(err)
			}
			return byID[id], value[5:]
		}
		if len(value) >= 10 {
			if schema, ok := byHeader[hex.EncodeToString(value[:10])]; ok {
				return schema, value[10:]
			}
		}
		fmt.Fprintln(os.Stderr, "a record of an unknown schema: dead-letter it")
		os.Exit(4)
		return nil, nil
	}

	client, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(*bootstrap, ",")...),
		kgo.ConsumeTopics(*topic),
		kgo.ConsumerGroup(fmt.Sprintf("reader-%d", time.Now().UnixNano())),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), // the pipeline writes in transactions
	)
	check(err)
	defer client.Close()
	read := 0
	for read < *count {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			fmt.Fprintf(os.Stderr, "read %d of %d records before the timeout\n", read, *count)
			os.Exit(3)
		}
		check(fetches.Err())
		for _, record := range fetches.Records() {
			if read == *count {
				break
			}
			schema, body := writerOf(record.Value)
			var value map[string]any
			check(avro.Unmarshal(schema, body, &value))
			process, _ := value["process"].(map[string]any)
			line, err := json.Marshal(map[string]any{"id": value["id"], "node": value["node"], "kind": value["kind"], "binary": process["binary"]})
			check(err)
			fmt.Println(string(line))
			read++
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
