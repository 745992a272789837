package io.oecloud.chain.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigInteger;
import java.util.List;

/**
 * The ledger's first state, read from the {@code app_state} of CometBFT's genesis.json:
 * {"minFee", "feePerByte", "params": {...}, "names": {"registerFee"}, "reserve", "accounts": [{"address", "balance"}],
 * "candidates": [{"address", "validatorKey" (base64), "selfBond", "commissionPpm", "moniker", "beaconKey", "beaconPop"
 * (base64, optional: both or neither, see Bls)}]},
 * amounts in base units as decimal strings. The candidates' self-bonds are part of the genesis
 * supply and they make the first validator set, which replaces the one in CometBFT's genesis.
 * Anything wrong refuses the genesis whole (an IOException naming it), never half-loaded.
 *
 * @param state the state at height {@code initialHeight - 1}, with its genesis supply
 * @param fees what a transaction must pay on this chain
 * @param validators the first validator set (empty when the genesis names no candidates: then
 *     the validators of CometBFT's genesis.json stay until candidates are elected)
 */
public record Genesis(LedgerState state, Fees fees, List<Block.Update> validators) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger(Genesis.class.getName());

    /**
     * Adds a genesis candidate's {@code beaconKey} and {@code beaconPop} (base64) to its JSON
     * object: the beacon key derived from {@code operator}'s identity (the node that runs the
     * candidacy) and its proof of possession for the operator's address.
     */
    public static com.fasterxml.jackson.databind.node.ObjectNode putBeaconKey(com.fasterxml.jackson.databind.node.ObjectNode candidate,
                                                                             io.oecloud.dht.Identity operator) {
        io.oecloud.chain.beacon.Bls.SecretKey k = io.oecloud.chain.beacon.Bls.SecretKey.fromIdentity(operator);
        return candidate.put("beaconKey", java.util.Base64.getEncoder().encodeToString(k.publicKey()))
                .put("beaconPop", java.util.Base64.getEncoder().encodeToString(k.pop(Ledger.address(operator.publicKey()))));
    }

    /** Genesis {@code names.registerFee}: base units as a decimal string, 0 up to 2^128 (default 1 pass). */
    static BigInteger nameRegisterFee(JsonNode names) throws IOException {
        JsonNode f = names.path("registerFee");
        if (f.isMissingNode() || f.isNull()) {
            return Names.DEFAULT_REGISTER_FEE;
        }
        BigInteger fee;
        try {
            fee = new BigInteger(f.asText());
        } catch (NumberFormatException e) {
            throw new IOException("genesis names.registerFee is base units as a decimal string, not '" + f.asText() + "'");
        }
        if (fee.signum() < 0 || fee.compareTo(Amounts.LIMIT) >= 0) {
            throw new IOException("genesis names.registerFee is 0 up to 2^128 base units, not " + fee);
        }
        return fee;
    }

    /** Reads {@code appState} (empty: all defaults) for chain {@code chainId} starting at {@code initialHeight}. */
    public static Genesis read(String chainId, byte[] appState, long initialHeight) throws IOException {
        JsonNode doc = appState.length == 0 ? JSON.createObjectNode() : JSON.readTree(appState);
        Fees fees;
        try {
            fees = Fees.fromGenesis(doc);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
        LedgerState s = new LedgerState();
        s.params = StakingParams.fromJson(doc.path("params"));
        try {
            s.storageParams = StorageParams.fromJson(doc.path("storage"));
        } catch (IllegalArgumentException e) {
            throw new IOException("genesis storage: " + e.getMessage());
        }
        s.nameRegisterFee = nameRegisterFee(doc.path("names"));
        s.height = initialHeight - 1;
        s.reserve = new BigInteger(doc.path("reserve").asText("0"));
        for (JsonNode a : doc.path("accounts")) {
            String addr = a.path("address").asText();
            io.oecloud.dht.PeerId.parse(addr); // a bad genesis is refused, not half-loaded
            s.accounts.put(addr, new LedgerState.Account(s.account(addr).balance().add(new BigInteger(a.path("balance").asText())), 0));
        }
        BigInteger bonded = BigInteger.ZERO;
        for (JsonNode c : doc.path("candidates")) {
            String addr = c.path("address").asText();
            io.oecloud.dht.PeerId.parse(addr);
            BigInteger bond = new BigInteger(c.path("selfBond").asText("0"));
            // the self-bond is created for the candidate: credit it, then bond it like a transaction would
            s.accounts.put(addr, new LedgerState.Account(s.account(addr).balance().add(bond), 0));
            byte[] beaconKey = java.util.Base64.getDecoder().decode(c.path("beaconKey").asText(""));
            Ledger.Result res = Staking.checkBeaconKey(addr, beaconKey, java.util.Base64.getDecoder().decode(c.path("beaconPop").asText("")));
            if (res == null) {
                res = Staking.registerCandidate(s, addr, bond, java.util.Base64.getDecoder().decode(c.path("validatorKey").asText()),
                        c.path("commissionPpm").asInt(0), c.path("moniker").asText(""), bond, beaconKey);
            }
            if (!res.ok()) {
                throw new IOException("genesis candidate " + addr + ": " + res.log());
            }
            bonded = bonded.add(bond);
        }
        BigInteger total = s.supply();
        if (total.compareTo(Amounts.LIMIT) >= 0) {
            throw new IOException("genesis supply " + total + " reaches 2^128");
        }
        s.genesisSupply = total;
        s.beaconSeed = io.oecloud.chain.beacon.Beacon.seed0(chainId); // seed_0; a genesis state has no block before it
        s.beaconPrevious = s.beaconSeed;
        s.beaconHeight = 0;
        List<Block.Update> set = List.of();
        if (!s.candidates.isEmpty()) {
            set = Staking.endBlockAtGenesis(s);
            if (set.isEmpty()) {
                throw new IOException("no genesis candidate can be a validator (each needs the minimum self-bond and one pass of stake)");
            }
        } else {
            LOG.log(System.Logger.Level.WARNING, "genesis names no candidates: the validators of CometBFT genesis.json stay until candidates are elected");
        }
        LOG.log(System.Logger.Level.INFO, "genesis of {0}: {1} accounts, {2} candidates, {3} base units ({4} bonded)",
                chainId, s.accounts.size(), s.candidates.size(), total, bonded);
        return new Genesis(s, fees, set);
    }
}
