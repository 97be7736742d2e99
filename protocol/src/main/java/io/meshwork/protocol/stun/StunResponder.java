package io.meshwork.protocol.stun;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The STUN server's decisions, free of sockets: given a request, who sent it and which local socket
 * received it, it returns the response and the socket to send it from, or why the datagram is dropped.
 *
 * <p>Binding requests get a success response (RFC 8489 §6.3.1); with two IPs the server is an RFC 5780
 * server: OTHER-ADDRESS and RESPONSE-ORIGIN in every response, and CHANGE-REQUEST honoured by answering
 * from the alternate IP and/or port. Requests from RFC 3489 clients (no magic cookie) get the attributes
 * those clients know: MAPPED-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS (RFC 8489 §12).
 */
public final class StunResponder {

    /** Why a datagram got no answer. */
    public enum DropReason {
        /** Not a STUN message at all, or a malformed one (the parse reason is in the detail). */
        MALFORMED,
        /** A response or indication: a server answers only requests (RFC 8489 §6.3). */
        NOT_A_REQUEST,
        /** Arrived on an address that is not one of this server's sockets. */
        UNKNOWN_LOCAL_ADDRESS
    }

    /** What to do with one datagram. */
    public sealed interface Outcome {
    }

    /** Send {@code datagram} from local socket {@code from} to {@code to}. */
    public record Reply(byte[] datagram, InetSocketAddress from, InetSocketAddress to) implements Outcome {
        public Reply {
            datagram = datagram.clone();
        }

        @Override
        public byte[] datagram() {
            return datagram.clone();
        }
    }

    /** Send nothing. */
    public record Drop(DropReason reason, String detail) implements Outcome {
    }

    private final StunServerAddresses addresses;
    private final String software;

    /**
     * @param software the SOFTWARE attribute to put in responses (RFC 8489 §14.14)
     */
    public StunResponder(StunServerAddresses addresses, String software) {
        this.addresses = Objects.requireNonNull(addresses, "addresses");
        this.software = Objects.requireNonNull(software, "software");
    }

    public StunServerAddresses addresses() {
        return addresses;
    }

    /** Decides the answer to one datagram received on {@code local} from {@code source}. */
    public Outcome respond(ByteBuffer datagram, InetSocketAddress source, InetSocketAddress local) {
        StunMessage request;
        try {
            request = StunDecoder.decodeAllowingClassic(datagram);
        } catch (StunParseException e) {
            return new Drop(DropReason.MALFORMED, e.getMessage());
        }
        if (request.messageClass() != StunClass.REQUEST) {
            return new Drop(DropReason.NOT_A_REQUEST, request.messageClass().toString());
        }
        if (!addresses.sockets().contains(local)) {
            return new Drop(DropReason.UNKNOWN_LOCAL_ADDRESS, String.valueOf(local));
        }
        if (request.method() != StunMessage.BINDING) {
            // RFC 8489 §6.3.1.1: a request for a method the server does not know is answered with 400.
            return error(request, local, source, StunAttribute.ErrorCode.BAD_REQUEST,
                    "Unknown method", List.of());
        }
        List<Integer> unknown = request.unknownComprehensionRequired();
        if (!unknown.isEmpty()) {
            // RFC 8489 §6.3.1.1: unknown comprehension-required attributes → 420 listing them.
            return error(request, local, source, StunAttribute.ErrorCode.UNKNOWN_ATTRIBUTE,
                    "Unknown Attribute", unknown);
        }
        Optional<StunAttribute.ChangeRequest> change = request.attribute(StunAttribute.ChangeRequest.class);
        boolean changeIp = change.map(StunAttribute.ChangeRequest::changeIp).orElse(false);
        boolean changePort = change.map(StunAttribute.ChangeRequest::changePort).orElse(false);
        Optional<InetSocketAddress> from = addresses.changed(local, changeIp, changePort);
        if (from.isEmpty()) {
            // RFC 5780 §6.1: a server without an alternate address rejects CHANGE-REQUEST with 420. A
            // request whose flags are both clear asks for no change, and RFC 3489 clients always send one.
            return error(request, local, source, StunAttribute.ErrorCode.UNKNOWN_ATTRIBUTE,
                    "Unknown Attribute", List.of(StunAttributeType.CHANGE_REQUEST));
        }
        return success(request, source, from.get());
    }

    private Outcome success(StunMessage request, InetSocketAddress source, InetSocketAddress from) {
        List<StunAttribute> attributes = new ArrayList<>(5);
        // RFC 5780 §7.4: OTHER-ADDRESS differs from the receiving socket in both IP and port.
        Optional<InetSocketAddress> other = addresses.changed(from, true, true);
        if (request.isClassic()) {
            attributes.add(new StunAttribute.MappedAddress(source));
            attributes.add(new StunAttribute.SourceAddress(from));
            other.ifPresent(address -> attributes.add(new StunAttribute.ChangedAddress(address)));
        } else {
            attributes.add(new StunAttribute.XorMappedAddress(source));
            attributes.add(new StunAttribute.ResponseOrigin(from));
            other.ifPresent(address -> attributes.add(new StunAttribute.OtherAddress(address)));
            attributes.add(new StunAttribute.Software(software));
        }
        StunMessage response = StunMessage.bindingSuccess(request, attributes);
        // RFC 3489 clients know no FINGERPRINT, and their random cookie would make it meaningless.
        return new Reply(StunEncoder.encode(response, null, !request.isClassic()), from, source);
    }

    private Outcome error(StunMessage request, InetSocketAddress local, InetSocketAddress source,
            int code, String reason, List<Integer> unknownTypes) {
        List<StunAttribute> attributes = new ArrayList<>(3);
        attributes.add(new StunAttribute.ErrorCode(code, reason));
        if (!unknownTypes.isEmpty()) {
            attributes.add(new StunAttribute.UnknownAttributes(unknownTypes));
        }
        if (!request.isClassic()) {
            attributes.add(new StunAttribute.Software(software));
        }
        StunMessage response = new StunMessage(StunClass.ERROR_RESPONSE, request.method(),
                request.magicCookie(), request.transactionId(), attributes);
        return new Reply(StunEncoder.encode(response, null, !request.isClassic()), local, source);
    }
}
