package io.meshwork.control;

/** Marker for messages, events and states that cross the cluster or the journal: serialized with jackson-cbor. */
public interface CborSerializable {}
