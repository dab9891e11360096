// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ClawUSD: the local-chain settlement token of 402claw (dev and tests only).
/// @notice A 6-decimal ERC-20 with EIP-3009 "transfer with authorization", shaped like
/// USDC so that the official x402 `exact` scheme settles against it unchanged:
///   - `transferWithAuthorization(..., v, r, s)` is what the x402 EVM package calls for ECDSA
///     signatures; the `bytes signature` overload is what it calls for anything else.
///   - `name()` / `version()` are the EIP-712 domain, checked by the facilitator's
///     diagnosis path against `extra.name` / `extra.version` of the payment requirements.
///   - `authorizationState(authorizer, nonce)` lets the facilitator tell a replay apart.
/// Revert reasons are plain strings (not custom errors) on purpose: the facilitator only
/// knows the standard EIP-3009 ABI, and maps failures by matching the reason text
/// ("authorization is used", "invalid signature", "exceeds balance", ...).
/// Smart-contract wallets (EIP-1271) are deliberately not supported: signatures must be
/// 65-byte ECDSA signatures of an externally owned account.
contract ClawUSD {
    // ------------------------------------------------------------------ ERC-20 state

    string public name;
    string public symbol;
    /// @notice EIP-712 domain version (USDC uses "2").
    string public version;
    uint8 public constant decimals = 6;

    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    /// @notice The only account allowed to mint.
    address public owner;

    // ------------------------------------------------------------------ EIP-712 / EIP-3009

    bytes32 private constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 public constant CANCEL_AUTHORIZATION_TYPEHASH =
        keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");

    /// @dev Upper bound of the lower half of the secp256k1 order: signatures with a larger
    /// `s` are the malleable twin of a valid one and are refused (EIP-2).
    uint256 private constant SECP256K1N_HALF =
        0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @dev authorizer => nonce => used or canceled. Nonces are random 32-byte values chosen
    /// by the signer, so authorizations can be created concurrently in any order.
    mapping(address => mapping(bytes32 => bool)) private _authorizationStates;

    /// @dev The domain separator is cached for the deployment chain and recomputed if the
    /// chain id ever differs (a fork), so signatures can never be replayed across chains.
    bytes32 private immutable _cachedDomainSeparator;
    uint256 private immutable _cachedChainId;

    // ------------------------------------------------------------------ events

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    constructor(string memory name_, string memory symbol_, string memory version_) {
        name = name_;
        symbol = symbol_;
        version = version_;
        owner = msg.sender;
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
        emit OwnershipTransferred(address(0), msg.sender);
    }

    // ------------------------------------------------------------------ ERC-20

    function transfer(address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        // An allowance of type(uint256).max is treated as infinite (not decremented),
        // like most production tokens, so tooling that relies on it behaves the same here.
        if (allowed != type(uint256).max) {
            require(allowed >= value, "ClawUSD: transfer amount exceeds allowance");
            unchecked {
                allowance[from][msg.sender] = allowed - value;
            }
        }
        _transfer(from, to, value);
        return true;
    }

    // ------------------------------------------------------------------ owner

    modifier onlyOwner() {
        require(msg.sender == owner, "ClawUSD: caller is not the owner");
        _;
    }

    /// @notice Create `value` atomic units for `to` (test funding; owner only).
    function mint(address to, uint256 value) external onlyOwner {
        require(to != address(0), "ClawUSD: mint to the zero address");
        totalSupply += value;
        unchecked {
            // Cannot overflow: the sum of all balances equals totalSupply, checked above.
            balanceOf[to] += value;
        }
        emit Transfer(address(0), to, value);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        require(newOwner != address(0), "ClawUSD: new owner is the zero address");
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    // ------------------------------------------------------------------ EIP-712

    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    /// @notice EIP-5267 domain description, so wallets and viem can discover the domain.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name_,
            string memory version_,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        // 0x0f = name, version, chainId and verifyingContract are present (no salt).
        return (hex"0f", name, version, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    // ------------------------------------------------------------------ EIP-3009

    /// @notice True if the authorization `nonce` of `authorizer` was used or canceled.
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _authorizationStates[authorizer][nonce];
    }

    /// @notice Execute a transfer signed off-chain by `from`; anyone may submit it.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _transferWithAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, v, r, s
        );
    }

    /// @notice Same as above with the signature packed as `r ‖ s ‖ v` (65 bytes).
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        (uint8 v, bytes32 r, bytes32 s) = _splitSignature(signature);
        _transferWithAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, v, r, s
        );
    }

    /// @notice Like transferWithAuthorization, but only the payee may submit it. This stops
    /// a front-runner from lifting the authorization out of a contract call that was meant
    /// to use it atomically (the reason EIP-3009 defines this variant).
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        require(to == msg.sender, "ClawUSD: caller must be the payee");
        _transferWithAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, v, r, s
        );
    }

    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        require(to == msg.sender, "ClawUSD: caller must be the payee");
        (uint8 v, bytes32 r, bytes32 s) = _splitSignature(signature);
        _transferWithAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, v, r, s
        );
    }

    /// @notice Burn an unused authorization nonce so it can never be executed.
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        _cancelAuthorization(authorizer, nonce, v, r, s);
    }

    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external {
        (uint8 v, bytes32 r, bytes32 s) = _splitSignature(signature);
        _cancelAuthorization(authorizer, nonce, v, r, s);
    }

    // ------------------------------------------------------------------ internals

    function _transfer(address from, address to, uint256 value) private {
        require(to != address(0), "ClawUSD: transfer to the zero address");
        uint256 fromBalance = balanceOf[from];
        require(fromBalance >= value, "ClawUSD: transfer amount exceeds balance");
        unchecked {
            balanceOf[from] = fromBalance - value;
            // Cannot overflow: bounded by totalSupply.
            balanceOf[to] += value;
        }
        emit Transfer(from, to, value);
    }

    function _transferWithAuthorization(
        bytes32 typehash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) private {
        // Strict inequalities as in EIP-3009: valid in the open interval (validAfter, validBefore).
        require(block.timestamp > validAfter, "ClawUSD: authorization is not yet valid");
        require(block.timestamp < validBefore, "ClawUSD: authorization is expired");
        require(!_authorizationStates[from][nonce], "ClawUSD: authorization is used or canceled");

        bytes32 structHash = keccak256(abi.encode(typehash, from, to, value, validAfter, validBefore, nonce));
        require(_recover(_hashTypedData(structHash), v, r, s) == from, "ClawUSD: invalid signature");

        // Mark the nonce before moving funds (checks-effects-interactions; there are no
        // external calls here, but the order keeps the invariant obvious).
        _authorizationStates[from][nonce] = true;
        emit AuthorizationUsed(from, nonce);
        _transfer(from, to, value);
    }

    function _cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) private {
        require(!_authorizationStates[authorizer][nonce], "ClawUSD: authorization is used or canceled");
        bytes32 structHash = keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce));
        require(_recover(_hashTypedData(structHash), v, r, s) == authorizer, "ClawUSD: invalid signature");
        _authorizationStates[authorizer][nonce] = true;
        emit AuthorizationCanceled(authorizer, nonce);
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(
            abi.encode(
                EIP712_DOMAIN_TYPEHASH,
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                block.chainid,
                address(this)
            )
        );
    }

    function _hashTypedData(bytes32 structHash) private view returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", DOMAIN_SEPARATOR(), structHash));
    }

    /// @dev ecrecover with the EIP-2 malleability checks. A zero result (bad signature)
    /// can never equal a real `from`, but it is refused explicitly for clarity.
    function _recover(bytes32 digest, uint8 v, bytes32 r, bytes32 s) private pure returns (address) {
        // Some signers report the recovery id as yParity (0/1) rather than 27/28.
        if (v < 27) v += 27;
        require(v == 27 || v == 28, "ClawUSD: invalid signature 'v' value");
        require(uint256(s) <= SECP256K1N_HALF, "ClawUSD: invalid signature 's' value");
        address signer = ecrecover(digest, v, r, s);
        require(signer != address(0), "ClawUSD: invalid signature");
        return signer;
    }

    /// @dev Split a 65-byte `r ‖ s ‖ v` signature. Other lengths (EIP-1271 blobs, EIP-2098
    /// compact signatures) are refused: this token only supports EOA signers.
    function _splitSignature(bytes calldata signature) private pure returns (uint8 v, bytes32 r, bytes32 s) {
        require(signature.length == 65, "ClawUSD: invalid signature length");
        r = bytes32(signature[0:32]);
        s = bytes32(signature[32:64]);
        v = uint8(signature[64]);
    }
}
