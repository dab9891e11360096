// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The slice of Permit2 this proxy calls (contracts/Permit2.sol implements it).
interface ISignatureTransfer {
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

    function permitWitnessTransferFrom(
        PermitTransferFrom calldata permit,
        SignatureTransferDetails calldata transferDetails,
        address owner,
        bytes32 witness,
        string calldata witnessTypeString,
        bytes calldata signature
    ) external;
}

/// @title x402 upto Permit2 proxy (402claw local-chain implementation)
/// @notice Settles an x402 `upto` payment: the payer signed a Permit2 PermitWitnessTransferFrom
/// for a maximum with this contract as spender and the witness
/// `Witness(address to, address facilitator, uint256 validAfter)`; the facilitator named in the
/// witness settles any amount up to that maximum to `witness.to`. Because the witness is part of
/// the signed message, nobody can redirect the funds or settle through another facilitator.
/// The canonical contract lives at 0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002 on public chains;
/// the local stack writes this runtime code there with `anvil_setCode`. Its ABI (settle,
/// PERMIT2, WITNESS_TYPEHASH, WITNESS_TYPE_STRING, error names) is the one the x402 EVM npm package calls.
/// Checks, in order: not re-entered; owner and recipient non-zero; `validAfter` reached;
/// caller is `witness.facilitator`; `amount <= permit.permitted.amount`. Permit2 then checks the
/// deadline, consumes the nonce (so a settled permit can never be settled again) and verifies
/// the signature over permit + spender (this contract) + witness.
/// Not implemented: `settleWithPermit` (EIP-2612 gas sponsoring); the local token has no
/// EIP-2612 `permit`, so the local payer approves Permit2 directly (cli/stack/chain.ts).
/// No constructor runs under anvil_setCode, so Permit2's address is a constant (the canonical
/// one, where the stack installs contracts/Permit2.sol) and the re-entrancy lock is transient.
contract x402UptoPermit2Proxy {
    struct Witness {
        address to;
        address facilitator;
        uint256 validAfter;
    }

    error AmountExceedsPermitted();
    error InvalidDestination();
    error InvalidOwner();
    error PaymentTooEarly();
    error ReentrancyGuardReentrantCall();
    error UnauthorizedFacilitator();

    event Settled();

    ISignatureTransfer public constant PERMIT2 =
        ISignatureTransfer(0x000000000022D473030F116dDEE9F6B43aC78BA3);

    bytes32 public constant WITNESS_TYPEHASH =
        keccak256("Witness(address to,address facilitator,uint256 validAfter)");

    /// The tail Permit2 appends to its PermitWitnessTransferFrom stub: the witness member, then
    /// the referenced types in alphabetical order (EIP-712 encodeType).
    string public constant WITNESS_TYPE_STRING =
        "Witness witness)TokenPermissions(address token,uint256 amount)"
        "Witness(address to,address facilitator,uint256 validAfter)";

    bool private transient locked;

    function settle(
        ISignatureTransfer.PermitTransferFrom calldata permit,
        uint256 amount,
        address owner,
        Witness calldata witness,
        bytes calldata signature
    ) external {
        if (locked) revert ReentrancyGuardReentrantCall();
        locked = true;
        if (owner == address(0)) revert InvalidOwner();
        if (witness.to == address(0)) revert InvalidDestination();
        if (block.timestamp < witness.validAfter) revert PaymentTooEarly();
        if (msg.sender != witness.facilitator) revert UnauthorizedFacilitator();
        if (amount > permit.permitted.amount) revert AmountExceedsPermitted();

        bytes32 witnessHash =
            keccak256(abi.encode(WITNESS_TYPEHASH, witness.to, witness.facilitator, witness.validAfter));
        PERMIT2.permitWitnessTransferFrom(
            permit,
            ISignatureTransfer.SignatureTransferDetails({to: witness.to, requestedAmount: amount}),
            owner,
            witnessHash,
            WITNESS_TYPE_STRING,
            signature
        );
        emit Settled();
        locked = false;
    }
}
