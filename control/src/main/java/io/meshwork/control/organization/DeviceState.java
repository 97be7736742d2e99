package io.meshwork.control.organization;

import io.meshwork.control.CborSerializable;
import io.meshwork.control.organization.Organization.DeviceRecord;

/**
 * The states of a {@link Device}'s journal, one type per stage of its lifecycle: {@link Unknown} (nothing written),
 * then {@link Pending}, {@link Active} or {@link Revoked} (the {@link Known} ones, with the device's record), then
 * {@link Deleted}, which stays. A known state's type and its record's {@code status} always agree: {@link #of}
 * makes every known state from its record. Each event is applied by one method of the state it arrives in.
 *
 * <p>Snapshots are written as these types; {@link Device.State} reads the one type snapshots had before.
 */
public sealed interface DeviceState extends CborSerializable
        permits DeviceState.Unknown, DeviceState.Known, DeviceState.Deleted {

    /** The known state of {@code device}, by its status. */
    static Known of(DeviceRecord device) {
        return switch (device.status()) {
            case DeviceRecord.PENDING -> new Pending(device);
            case DeviceRecord.REVOKED -> new Revoked(device);
            default -> new Active(device);
        };
    }

    /** Nothing written: the device registered and changed nothing since, or there is no such device. */
    record Unknown() implements DeviceState {
        Known registered(Device.Registered event) {
            return of(event.device());
        }
    }

    /** The journal has the device: pending, active or revoked. */
    sealed interface Known extends DeviceState permits Pending, Active, Revoked {
        DeviceRecord device();

        /** Last seen never goes back: a report written late does not undo a later one. */
        default Known endpointsReported(Device.EndpointsReported event) {
            return of(device().withEndpoints(event.endpoints(), event.nat(),
                    Math.max(device().lastSeenMillis(), event.atMillis()), event.homeRelay()));
        }

        default Known seen(Device.Seen event) {
            return of(device().withLastSeen(Math.max(device().lastSeenMillis(), event.atMillis())));
        }

        default Known credentialsReplaced(Device.CredentialsReplaced event) {
            return of(device().withCredentials(event.tokenHash(), event.certificateSerial()));
        }

        default Known patched(Device.Patched event) {
            DeviceRecord named = device().withNames(event.hostname(), event.metadata());
            DeviceRecord tagged = event.tags() == null ? named : named.withTags(event.tags());
            return of(event.relayAllowed() == null ? tagged : tagged.withRelayAllowed(event.relayAllowed()));
        }

        default Known approved(Device.Approved event) {
            return of(device().withStatus(DeviceRecord.ACTIVE));
        }

        default Known revoked(Device.Revoked event) {
            return of(device().withStatus(DeviceRecord.REVOKED));
        }

        default Deleted deleted(Device.Deleted event) {
            return new Deleted(device());
        }
    }

    /** Registered with a key that requires approval: its reports stay here, it is in no peer map. */
    record Pending(DeviceRecord device) implements Known {}

    record Active(DeviceRecord device) implements Known {}

    /** Its token no longer works; it may still be renamed or deleted. */
    record Revoked(DeviceRecord device) implements Known {}

    /** Gone for good: it is never taken on again. {@code device}: its record when it was deleted. */
    record Deleted(DeviceRecord device) implements DeviceState {}
}
