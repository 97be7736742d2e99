package io.meshwork.control.organization;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import scala.Option;
import scala.Tuple2;
import scala.collection.immutable.HashMap;
import scala.collection.immutable.HashMap$;

/**
 * An immutable map whose {@link #with} and {@link #without} return a new map in O(log32 n), sharing all but a path
 * with this one (Scala's hash array mapped trie underneath). An entity's state holds thousands of devices and
 * changes one per event, so copying the whole map per event would make every event O(devices).
 *
 * <p>It is a read-only {@link Map} (mutators throw); Jackson writes it as any map, and a state read back from a
 * snapshot turns the plain map Jackson gives back into one of these ({@link #copyOf}).
 */
public final class PersistentMap<K, V> extends AbstractMap<K, V> {

    private static final PersistentMap<?, ?> EMPTY = new PersistentMap<>(HashMap$.MODULE$.empty());

    private final HashMap<K, V> trie;

    private PersistentMap(HashMap<K, V> trie) {
        this.trie = trie;
    }

    @SuppressWarnings("unchecked")
    public static <K, V> PersistentMap<K, V> empty() {
        return (PersistentMap<K, V>) EMPTY;
    }

    /** {@code map} itself when it already is one, else a copy (null gives the empty map). */
    public static <K, V> PersistentMap<K, V> copyOf(Map<K, V> map) {
        if (map instanceof PersistentMap<K, V> persistent) {
            return persistent;
        }
        PersistentMap<K, V> copy = empty();
        if (map != null) {
            for (Map.Entry<K, V> entry : map.entrySet()) {
                copy = copy.with(entry.getKey(), entry.getValue());
            }
        }
        return copy;
    }

    /** This map with {@code key} mapped to {@code value}. */
    public PersistentMap<K, V> with(K key, V value) {
        return new PersistentMap<>(trie.updated(key, value));
    }

    /** This map without {@code key}; this map itself when it has no such key. */
    public PersistentMap<K, V> without(K key) {
        return trie.contains(key) ? new PersistentMap<>(trie.removed(key)) : this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V get(Object key) {
        Option<V> value = trie.get((K) key);
        return value.isEmpty() ? null : value.get();
    }

    @Override
    @SuppressWarnings("unchecked")
    public boolean containsKey(Object key) {
        return trie.contains((K) key);
    }

    @Override
    public int size() {
        return trie.size();
    }

    @Override
    public boolean isEmpty() {
        return trie.isEmpty();
    }

    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Map.Entry<K, V>> iterator() {
                scala.collection.Iterator<Tuple2<K, V>> entries = trie.iterator();
                return new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return entries.hasNext();
                    }

                    @Override
                    public Map.Entry<K, V> next() {
                        Tuple2<K, V> entry = entries.next();
                        return new AbstractMap.SimpleImmutableEntry<>(entry._1(), entry._2());
                    }
                };
            }

            @Override
            public int size() {
                return trie.size();
            }
        };
    }
}
