package io.meshwork.relay.cli;

import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.InvalidAddressException;
import java.net.InetSocketAddress;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code HOST:PORT} and {@code [IPv6]:PORT} options, parsed by the project's one {@link HostPort} and resolved. */
final class HostPortConverter implements ITypeConverter<InetSocketAddress> {

    @Override
    public InetSocketAddress convert(String value) {
        try {
            HostPort parsed = HostPort.parse(value, -1);
            if (parsed.port() < 0) {
                throw new TypeConversionException("expected HOST:PORT, got '" + value + "'");
            }
            return parsed.resolve();
        } catch (InvalidAddressException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
