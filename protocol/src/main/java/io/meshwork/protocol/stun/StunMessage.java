package io.meshwork.protocol.stun;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One STUN message (RFC 8489 §5): class, method, transaction ID and attributes in wire order.
 *
 * <p>{@code magicCookie} is {@link #MAGIC_COOKIE} for every RFC 5389/8489 message; a message from an
 * RFC 3489 client carries the first four bytes of its 128-bit transaction ID there instead (RFC 8489 §12),
 * and a response to it must echo them.
 */
public record StunMessage(
        StunClass messageClass,
        int method,
        int magicCookie,
        TransactionId transactionId,
        List<StunAttribute> attributes) {

    /** RFC 8489 §5. */
    public static final int MAGIC_COOKIE = 0x2112A442;
    /** RFC 8489 §18.2: the Binding method. */
    public static final int BINDING = 0x001;

    public StunMessage {
        Objects.requireNonNull(messageClass, "messageClass");
        Objects.requireNonNull(transactionId, "transactionId");
        if (method < 0 || method > 0xFFF) {
            throw new IllegalArgumentException("STUN methods are 12 bits, got " + method);
        }
        attributes = List.copyOf(attributes);
    }

    /** A Binding request (RFC 8489 §3) with the given attributes. */
    public static StunMessage bindingRequest(TransactionId transactionId, StunAttribute... attributes) {
        return new StunMessage(StunClass.REQUEST, BINDING, MAGIC_COOKIE, transactionId, List.of(attributes));
    }

    /** A Binding success response answering {@code request}: same cookie and transaction ID. */
    public static StunMessage bindingSuccess(StunMessage request, List<StunAttribute> attributes) {
        return new StunMessage(StunClass.SUCCESS_RESPONSE, BINDING, request.magicCookie,
                request.transactionId, attributes);
    }

    /** A Binding error response answering {@code request}: same cookie and transaction ID. */
    public static StunMessage bindingError(StunMessage request, List<StunAttribute> attributes) {
        return new StunMessage(StunClass.ERROR_RESPONSE, BINDING, request.magicCookie,
                request.transactionId, attributes);
    }

    /** True for a message from an RFC 3489 agent, recognised by the missing magic cookie (RFC 8489 §12). */
    public boolean isClassic() {
        return magicCookie != MAGIC_COOKIE;
    }

    /** The first attribute of the given record type: only the first occurrence counts (RFC 8489 §14). */
    public <T extends StunAttribute> Optional<T> attribute(Class<T> type) {
        for (StunAttribute attribute : attributes) {
            if (type.isInstance(attribute)) {
                return Optional.of(type.cast(attribute));
            }
        }
        return Optional.empty();
    }

    /**
     * The reflexive transport address: XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from servers that only
     * send that (RFC 8489 §14.1 keeps it for backwards compatibility).
     */
    public Optional<InetSocketAddress> mappedAddress() {
        return attribute(StunAttribute.XorMappedAddress.class).map(StunAttribute.XorMappedAddress::address)
                .or(() -> attribute(StunAttribute.MappedAddress.class).map(StunAttribute.MappedAddress::address));
    }

    /** The server's alternate address: OTHER-ADDRESS, or CHANGED-ADDRESS from RFC 3489 servers. */
    public Optional<InetSocketAddress> otherAddress() {
        return attribute(StunAttribute.OtherAddress.class).map(StunAttribute.OtherAddress::address)
                .or(() -> attribute(StunAttribute.ChangedAddress.class).map(StunAttribute.ChangedAddress::address));
    }

    /** The address the response was sent from: RESPONSE-ORIGIN, or SOURCE-ADDRESS from RFC 3489 servers. */
    public Optional<InetSocketAddress> responseOrigin() {
        return attribute(StunAttribute.ResponseOrigin.class).map(StunAttribute.ResponseOrigin::address)
                .or(() -> attribute(StunAttribute.SourceAddress.class).map(StunAttribute.SourceAddress::address));
    }

    /**
     * Comprehension-required attribute types this codec does not understand. RFC 8489 §6.3.1: a server
     * answers such a request with 420 and UNKNOWN-ATTRIBUTES; §6.3.3/§6.3.4: a client treats such a
     * response as a failed transaction.
     */
    public List<Integer> unknownComprehensionRequired() {
        return attributes.stream()
                .filter(StunAttribute.Unknown.class::isInstance)
                .map(StunAttribute::type)
                .filter(StunAttributeType::isComprehensionRequired)
                .distinct()
                .toList();
    }
}
