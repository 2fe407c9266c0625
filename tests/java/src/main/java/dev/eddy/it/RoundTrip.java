package dev.eddy.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Round trip with the Java client's DEFAULT producer (idempotent since
 * Kafka 3.0: acks=all, InitProducerId, sequence numbers) against Eddy.
 *
 * Usage: RoundTrip BOOTSTRAP TOPIC N PARTITIONS [assign|group|both] [idempotence]
 *
 * The topic must exist with PARTITIONS partitions. Produces N keyed records, checks with DescribeProducers
 * that the partitions know the producer (so the records really went the
 * idempotent way), then reads everything back with assign() and/or a
 * consumer group and checks: exactly N, no key twice, offsets as the
 * producer was told, keys in send order within each partition. Prints one
 * "OK ..." line and exits 0, or prints the failure and exits 1.
 */
public final class RoundTrip {
    private RoundTrip() {}

    private static void fail(String msg) {
        System.out.println("FAIL " + msg);
        System.exit(1);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4)
            fail("usage: RoundTrip BOOTSTRAP TOPIC N PARTITIONS [assign|group|both] [idempotence]");
        String bootstrap = args[0], topic = args[1];
        int n = Integer.parseInt(args[2]), partitions = Integer.parseInt(args[3]);
        String mode = args.length > 4 ? args[4] : "assign";
        boolean forceIdempotence = args.length > 5 && args[5].equals("idempotence");

        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(ap)) {
            Map<String, long[]> acked = produce(bootstrap, topic, n, forceIdempotence);

            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < partitions; p++)
                tps.add(new TopicPartition(topic, p));
            int withProducer = producersKnown(admin, tps);
            if (withProducer == 0)
                fail("DescribeProducers shows no producer state: the producer was not idempotent");

            if (mode.equals("assign") || mode.equals("both"))
                check(consume(bootstrap, topic, tps, n, null), acked, n, "assign");
            if (mode.equals("group") || mode.equals("both"))
                check(consume(bootstrap, topic, tps, n, "java-it-" + System.nanoTime()), acked, n,
                        "group");
            System.out.println("OK " + n + " records, " + withProducer + " partition(s) with producer state");
        }
    }

    /**
     * Partitions whose DescribeProducers answer lists at least one producer
     * (Admin.describeProducers, KIP-664: called by reflection so that this
     * compiles against clients that predate it; -1 for those).
     */
    private static int producersKnown(Admin admin, List<TopicPartition> tps) throws Exception {
        java.lang.reflect.Method m;
        try {
            m = Admin.class.getMethod("describeProducers", java.util.Collection.class);
        } catch (NoSuchMethodException e) {
            return -1;
        }
        Object result = m.invoke(admin, tps);
        Object future = result.getClass().getMethod("all").invoke(result);
        Map<?, ?> described = (Map<?, ?>) future.getClass().getMethod("get").invoke(future);
        int with = 0;
        for (Object st : described.values()) {
            List<?> active = (List<?>) st.getClass().getMethod("activeProducers").invoke(st);
            if (!active.isEmpty())
                with++;
        }
        return with;
    }

    /** Key -> {partition, offset} as acknowledged. */
    private static Map<String, long[]> produce(String bootstrap, String topic, int n,
                                               boolean forceIdempotence)
            throws InterruptedException {
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        if (forceIdempotence) /* clients before 3.0 are not idempotent by default */
            pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        Map<String, long[]> acked = new HashMap<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            List<Future<RecordMetadata>> fs = new ArrayList<>(n);
            for (int i = 0; i < n; i++)
                fs.add(producer.send(new ProducerRecord<>(topic, String.format("key-%06d", i),
                        "value-" + i)));
            producer.flush();
            for (int i = 0; i < n; i++) {
                try {
                    RecordMetadata md = fs.get(i).get();
                    acked.put(String.format("key-%06d", i), new long[] {md.partition(), md.offset()});
                } catch (ExecutionException e) {
                    fail("send " + i + ": " + e.getCause());
                }
            }
        }
        return acked;
    }

    private static List<ConsumerRecord<String, String>> consume(String bootstrap, String topic,
            List<TopicPartition> tps, int n, String group) {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        if (group != null)
            cp.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
            if (group == null) {
                consumer.assign(tps);
                consumer.seekToBeginning(tps);
            } else {
                consumer.subscribe(Collections.singleton(topic));
            }
            long deadline = System.currentTimeMillis() + 90_000;
            while (got.size() < n && System.currentTimeMillis() < deadline) {
                ConsumerRecords<String, String> recs = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<String, String> r : recs)
                    got.add(r);
            }
            /* a little longer: anything beyond n is a duplicate */
            long extra = System.currentTimeMillis() + 1_000;
            while (System.currentTimeMillis() < extra)
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200)))
                    got.add(r);
            if (group != null)
                consumer.commitSync();
        }
        return got;
    }

    private static void check(List<ConsumerRecord<String, String>> got, Map<String, long[]> acked,
                              int n, String how) {
        if (got.size() != n)
            fail(how + ": read " + got.size() + " records, produced " + n);
        Set<String> seen = new HashSet<>();
        Map<Integer, Integer> lastIndex = new HashMap<>();
        for (ConsumerRecord<String, String> r : got) {
            if (!seen.add(r.key()))
                fail(how + ": key " + r.key() + " read twice");
            long[] a = acked.get(r.key());
            if (a == null)
                fail(how + ": unexpected key " + r.key());
            if (a[0] != r.partition() || a[1] != r.offset())
                fail(how + ": " + r.key() + " acknowledged at " + a[0] + "/" + a[1] + ", read at "
                        + r.partition() + "/" + r.offset());
            int idx = Integer.parseInt(r.key().substring(4));
            Integer prev = lastIndex.put(r.partition(), idx);
            if (prev != null && prev >= idx)
                fail(how + ": partition " + r.partition() + " has " + r.key() + " after index " + prev);
        }
    }
}
