package io.meshwork.simulation;

import java.util.Objects;
import java.util.Random;

/**
 * One hop of the virtual network (a host's access link, or a site's uplink through its NAT), whose
 * {@link LinkProfile} and up/down state can change mid-scenario. A packet's fate is decided when it enters
 * the link, from the simulation's seeded random source.
 */
public final class Link {

    private final String name;
    private volatile LinkProfile profile;
    private volatile boolean up = true;
    private long carried;
    private long lost;
    private long droppedWhileDown;

    Link(String name, LinkProfile profile) {
        this.name = name;
        this.profile = Objects.requireNonNull(profile, "profile");
    }

    public String name() {
        return name;
    }

    public LinkProfile profile() {
        return profile;
    }

    public void setProfile(LinkProfile newProfile) {
        profile = Objects.requireNonNull(newProfile, "profile");
    }

    public boolean isUp() {
        return up;
    }

    /** Cuts the link: packets entering it from now on are dropped; packets already on it still arrive. */
    public void down() {
        up = false;
    }

    public void up() {
        up = true;
    }

    /** Packets that crossed the link. */
    public long carried() {
        return carried;
    }

    /** Packets lost to the profile's loss probability. */
    public long lost() {
        return lost;
    }

    /** Packets dropped because the link was down. */
    public long droppedWhileDown() {
        return droppedWhileDown;
    }

    /**
     * Decides what happens to one packet entering the link: its transit time in nanoseconds, or -1 when it
     * is dropped. Draws from {@code random} only for the parts of the profile that are in use, so adding a
     * loss-free link to a scenario does not shift the random sequence seen by the rest.
     */
    long transitNanos(Random random) {
        if (!up) {
            droppedWhileDown++;
            return -1;
        }
        LinkProfile current = profile;
        if (current.lossProbability() > 0 && random.nextDouble() < current.lossProbability()) {
            lost++;
            return -1;
        }
        long transit = current.latency().toNanos();
        long jitter = current.jitter().toNanos();
        if (jitter > 0) {
            transit += (long) (random.nextDouble() * jitter);
        }
        carried++;
        return transit;
    }

    @Override
    public String toString() {
        return name + (up ? "" : " (down)");
    }
}
