// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Permit2 signature transfers (402claw local-chain subset)
/// @notice The x402 `upto` scheme moves tokens with Permit2's `permitWitnessTransferFrom`:
/// the payer approves this contract once on the token, then signs an EIP-712
/// `PermitWitnessTransferFrom` (token, maximum amount, spender, nonce, deadline, plus a witness
/// struct chosen by the spender) for each payment. Public chains have Permit2 at
/// 0x000000000022D473030F116dDEE9F6B43aC78BA3; a fresh anvil chain does not, so the local stack
/// writes this contract's runtime code there with `anvil_setCode`.
/// What is implemented, with the canonical signatures and semantics (written from the EIP-712
/// rules and the Permit2 interface, not copied):
///   - `DOMAIN_SEPARATOR()`: EIP-712 domain {name: "Permit2", chainId, verifyingContract} (no
///     version), computed on every call from `block.chainid` and `address(this)`.
///   - `permitWitnessTransferFrom(permit, transferDetails, owner, witness, witnessTypeString, sig)`:
///     the spender is `msg.sender`; checks the deadline, `requestedAmount <= permitted.amount`,
///     consumes the unordered nonce, verifies the signature, then `transferFrom(owner, to, amount)`.
///   - `nonceBitmap(owner, wordPos)` and `invalidateUnorderedNonces(wordPos, mask)`: unordered
///     nonces, 256 per word; bit `nonce & 255` of word `nonce >> 8`.
/// Not implemented: the allowance-based half of Permit2 (`approve`, `permit`, `transferFrom`),
/// batch transfers and `permitTransferFrom` without a witness; x402 uses none of them.
/// Installed with anvil_setCode (no constructor runs): no immutables, no initialised state;
/// the only storage is the nonce bitmap, which starts empty as it should.
contract Permit2 {
    struct TokenPermissions {
        address token;
        uint256 amount;
    }

    struct PermitTransferFrom {
        TokenPermissions permitted;
        uint256 nonce;
        uint256 deadline;
    }

    struct SignatureTransferDetails {
        address to;
        uint256 requestedAmount;
    }

    /// Error names match canonical Permit2: x402's facilitator maps revert messages by them.
    error SignatureExpired(uint256 signatureDeadline);
    error InvalidAmount(uint256 maxAmount);
    error InvalidNonce();
    error InvalidSignatureLength();
    error InvalidSignature();
    error InvalidSigner();
    error InvalidContractSignature();
    error TransferFailed();

    event UnorderedNonceInvalidation(address indexed owner, uint256 word, uint256 mask);

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,uint256 chainId,address verifyingContract)");
    bytes32 private constant NAME_HASH = keccak256("Permit2");
    bytes32 private constant TOKEN_PERMISSIONS_TYPEHASH =
        keccak256("TokenPermissions(address token,uint256 amount)");
    /// The witness type string a spender passes completes this stub (EIP-712 encodeType of the
    /// whole message: the witness member, then the referenced struct types in alphabetical order).
    string private constant WITNESS_STUB =
        "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,";

    /// @notice owner => word position => bitmap of used nonces.
    mapping(address => mapping(uint256 => uint256)) public nonceBitmap;

    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, block.chainid, address(this)));
    }

    function permitWitnessTransferFrom(
        PermitTransferFrom calldata permit,
        SignatureTransferDetails calldata transferDetails,
        address owner,
        bytes32 witness,
        string calldata witnessTypeString,
        bytes calldata signature
    ) external {
        if (block.timestamp > permit.deadline) revert SignatureExpired(permit.deadline);
        if (transferDetails.requestedAmount > permit.permitted.amount) revert InvalidAmount(permit.permitted.amount);
        _useUnorderedNonce(owner, permit.nonce);

        bytes32 typeHash = keccak256(abi.encodePacked(WITNESS_STUB, witnessTypeString));
        bytes32 tokenPermissionsHash =
            keccak256(abi.encode(TOKEN_PERMISSIONS_TYPEHASH, permit.permitted.token, permit.permitted.amount));
        bytes32 structHash =
            keccak256(abi.encode(typeHash, tokenPermissionsHash, msg.sender, permit.nonce, permit.deadline, witness));
        _verify(signature, keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), structHash)), owner);

        _transferFrom(permit.permitted.token, owner, transferDetails.to, transferDetails.requestedAmount);
    }

    /// @notice Cancel nonces: sets the bits of `mask` in the caller's word `wordPos`.
    function invalidateUnorderedNonces(uint256 wordPos, uint256 mask) external {
        nonceBitmap[msg.sender][wordPos] |= mask;
        emit UnorderedNonceInvalidation(msg.sender, wordPos, mask);
    }

    function _useUnorderedNonce(address owner, uint256 nonce) private {
        uint256 bit = uint256(1) << (nonce & 0xff);
        uint256 word = nonce >> 8;
        uint256 before = nonceBitmap[owner][word];
        if (before & bit != 0) revert InvalidNonce();
        nonceBitmap[owner][word] = before | bit;
    }

    /// ECDSA (65-byte r,s,v or 64-byte EIP-2098 r,vs) for accounts without code, EIP-1271 otherwise.
    function _verify(bytes calldata signature, bytes32 digest, address owner) private view {
        if (owner.code.length > 0) {
            (bool ok, bytes memory ret) =
                owner.staticcall(abi.encodeWithSelector(0x1626ba7e, digest, signature));
            if (!ok || ret.length < 32 || abi.decode(ret, (bytes4)) != bytes4(0x1626ba7e)) {
                revert InvalidContractSignature();
            }
            return;
        }
        bytes32 r;
        bytes32 s;
        uint8 v;
        if (signature.length == 65) {
            r = bytes32(signature[0:32]);
            s = bytes32(signature[32:64]);
            v = uint8(signature[64]);
        } else if (signature.length == 64) {
            r = bytes32(signature[0:32]);
            bytes32 vs = bytes32(signature[32:64]);
            s = vs & bytes32(0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff);
            v = uint8(uint256(vs >> 255)) + 27;
        } else {
            revert InvalidSignatureLength();
        }
        address signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature();
        if (signer != owner) revert InvalidSigner();
    }

    /// transferFrom that accepts tokens returning nothing (like USDT) and reverts on `false`. A
    /// token's own revert (e.g. "exceeds balance", "exceeds allowance") is passed up unchanged,
    /// so the caller sees why.
    function _transferFrom(address token, address from, address to, uint256 amount) private {
        if (token.code.length == 0) revert TransferFailed();
        (bool ok, bytes memory ret) =
            token.call(abi.encodeWithSignature("transferFrom(address,address,uint256)", from, to, amount));
        if (!ok && ret.length > 0) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        if (!ok || (ret.length > 0 && !abi.decode(ret, (bool)))) revert TransferFailed();
    }
}
