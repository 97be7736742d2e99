package io.meshwork.protocol.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import org.junit.jupiter.api.Test;

class P256Test {

    @Test
    void aNewKeyPairIsOnP256AndSigns() throws Exception {
        KeyPair keys = P256.generate();
        ECPublicKey publicKey = (ECPublicKey) keys.getPublic();
        assertEquals(256, publicKey.getParams().getCurve().getField().getFieldSize());
        assertEquals("EC", keys.getPrivate().getAlgorithm());
        Signature signing = Signature.getInstance("SHA256withECDSA");
        signing.initSign(keys.getPrivate());
        signing.update(new byte[] {1, 2, 3});
        byte[] signature = signing.sign();
        Signature verifying = Signature.getInstance("SHA256withECDSA");
        verifying.initVerify(publicKey);
        verifying.update(new byte[] {1, 2, 3});
        assertTrue(verifying.verify(signature));
        assertNotEquals(publicKey, P256.generate().getPublic(), "a new pair each time");
    }
}
