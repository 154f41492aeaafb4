// Reads a Stinger topic with other people's tools: the Kafka Java client and, for the schema registry's wire format,
// Apicurio Registry's Avro deserializer; for Stinger's default single-object encoding, Apache Avro's own decoder with
// the schemas of schemas/bundled. Each record's first byte says which (00: registry, C3: single-object). Prints each
// record as one line of Avro JSON encoding (written with the record's schema), then exits once --count records were
// read (or --timeout-ms passed: exit 3).
//
//   java -cp 'lib/*' StingerTopicReader.java --bootstrap HOST:PORT --topic stinger.events --count N
//        [--registry http://HOST:PORT] [--schemas DIR/schemas/bundled --schema Event] [--group ID] [--timeout-ms MS]
import io.apicurio.registry.serde.SerdeConfig;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.SchemaStore;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

public class StingerTopicReader {
  public static void main(String[] argv) throws Exception {
    Map<String, String> args = new HashMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) args.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
    int count = Integer.parseInt(args.getOrDefault("count", "1"));
    long deadline = System.currentTimeMillis() + Long.parseLong(args.getOrDefault("timeout-ms", "60000"));

    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("bootstrap"));
    props.put(ConsumerConfig.GROUP_ID_CONFIG, args.getOrDefault("group", "reader-" + UUID.randomUUID()));
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"); // the pipeline writes in transactions
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());

    // --- registry wire format (STINGER_SCHEMA_REGISTRY_URL set on the pipeline): 00 + 4-byte schema id + body ---
    AvroKafkaDeserializer<GenericRecord> registry = null;
    if (args.containsKey("registry")) {
      Map<String, Object> serde = new HashMap<>();
      serde.put(SerdeConfig.REGISTRY_URL, args.get("registry") + "/apis/registry/v2"); // Apicurio's own API
      serde.put(SerdeConfig.ENABLE_CONFLUENT_ID_HANDLER, "true"); // a 4-byte schema id, as Stinger writes
      serde.put(SerdeConfig.USE_ID, "contentId");                 // the ids of the ccompat API are content ids
      serde.put(SerdeConfig.ENABLE_HEADERS, "false");             // the id is in the value, not in headers
      registry = new AvroKafkaDeserializer<>();
      registry.configure(serde, false);
    }
    // --- single-object encoding (the default): C3 01 + CRC-64-AVRO fingerprint + body ---
    BinaryMessageDecoder<GenericRecord> singleObject = null;
    if (args.containsKey("schemas")) {
      SchemaStore.Cache store = new SchemaStore.Cache();
      Schema reader = null;
      for (File file : new File(args.get("schemas")).listFiles((dir, name) -> name.endsWith(".avsc"))) {
        Schema schema = new Schema.Parser().parse(file);
        store.addSchema(schema);
        if (file.getName().equals(args.get("schema") + ".avsc")) reader = schema;
      }
      singleObject = new BinaryMessageDecoder<>(GenericData.get(), reader, store);
    }

    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(args.get("topic")));
      int read = 0;
      while (read < count) {
        if (System.currentTimeMillis() > deadline) {
          System.err.println("read " + read + " of " + count + " records before the timeout");
          System.exit(3);
        }
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          // The first byte tells the formats apart, so a topic switched to the registry reads on.
          byte[] data = record.value();
          GenericRecord value = data.length > 0 && data[0] == 0 ? registry.deserialize(record.topic(), data) : singleObject.decode(data);
          System.out.println(avroJson(value));
          if (++read == count) break;
        }
      }
    }
  }

  /** The Avro JSON encoding of a record with its own schema (unions as {"type": value}, longs exact). */
  static String avroJson(GenericRecord record) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    JsonEncoder encoder = EncoderFactory.get().jsonEncoder(record.getSchema(), out);
    new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
    encoder.flush();
    return out.toString(StandardCharsets.UTF_8);
  }
}
