//! The SOCKS5 proxy's side of a connection (RFC 1928): the method negotiation, username/password authentication (RFC 1929), the CONNECT request and its reply, before tunnelling or closing.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, TcpStream};

use super::{AddressType, Asked, Handshake, Outcome, Protocol, Rules};

const VERSION: u8 = 5;
const NO_AUTHENTICATION: u8 = 0;
const USERNAME_PASSWORD: u8 = 2;
const NO_ACCEPTABLE_METHOD: u8 = 0xff;
const CONNECT: u8 = 1;

/// Negotiates, reads the request and decides its reply; `None` when the client gave up (or
/// spoke something else) before there was a last answer to give.
pub(super) fn handshake(client: &mut TcpStream, rules: &Rules) -> Option<Handshake> {
    let mut asked = Asked {
        protocol: Protocol::Socks5,
        target: String::new(),
        address_type: None,
        user: None,
        user_agent: None,
        method: None,
        outcome: Outcome::Tunneled,
    };
    let (answer, upstream) = match request(client, rules, &mut asked).ok()? {
        Ok(upstream) => (reply_bytes(0).to_vec(), Some(upstream)),
        Err((outcome, answer)) => {
            asked.outcome = outcome;
            (answer, None)
        }
    };
    let tunnel = upstream.map(|upstream| (upstream, Vec::new()));
    Some(Handshake {
        asked,
        answer,
        tunnel,
    })
}

/// A refused request: why, and the last answer that says so.
type Refusal = (Outcome, Vec<u8>);

/// Everything up to the last answer, written into `asked` as it is learnt: the connection to
/// the target, or why not.
fn request(
    client: &mut TcpStream,
    rules: &Rules,
    asked: &mut Asked,
) -> io::Result<Result<TcpStream, Refusal>> {
    if let Err(answer) = authenticate(client, rules, asked)? {
        return Ok(Err((Outcome::Unauthorized, answer)));
    }
    let [version, command, _reserved, kind] = read_array(client)?;
    if version != VERSION {
        return Err(io::ErrorKind::InvalidData.into());
    }
    let Some((host, address_type)) = read_address(client, kind)? else {
        return Ok(Err((Outcome::Unsupported, reply_bytes(8).to_vec())));
    };
    let port = u16::from_be_bytes(read_array(client)?);
    asked.target = format!("{host}:{port}");
    asked.address_type = Some(address_type);
    let opened = match command {
        CONNECT => rules.open(&asked.target),
        _ => Err(Outcome::Unsupported),
    };
    Ok(opened.map_err(|outcome| {
        let reply = match outcome {
            Outcome::Unrouted => 4,
            Outcome::Refused => 5,
            _ => 7,
        };
        (outcome, reply_bytes(reply).to_vec())
    }))
}

/// The method negotiation and, when chosen, username/password (the user goes into `asked`):
/// `Ok` when the client may go on, else the last answer that tells it it may not.
fn authenticate(
    client: &mut TcpStream,
    rules: &Rules,
    asked: &mut Asked,
) -> io::Result<Result<(), Vec<u8>>> {
    let [version, count] = read_array(client)?;
    if version != VERSION {
        return Err(io::ErrorKind::InvalidData.into());
    }
    let methods = read_vec(client, count.into())?;
    // Without credentials of its own, the proxy still takes a client that offers nothing else.
    let wants_password = rules.credentials.is_some() || !methods.contains(&NO_AUTHENTICATION);
    let method = match (wants_password, methods.contains(&USERNAME_PASSWORD)) {
        (false, _) => NO_AUTHENTICATION,
        (true, true) => USERNAME_PASSWORD,
        (true, false) => return Ok(Err(vec![VERSION, NO_ACCEPTABLE_METHOD])),
    };
    client.write_all(&[VERSION, method])?;
    if method == NO_AUTHENTICATION {
        return Ok(Ok(()));
    }
    let [_subnegotiation_version, length] = read_array(client)?;
    let user = String::from_utf8_lossy(&read_vec(client, length.into())?).into_owned();
    let [length] = read_array(client)?;
    let password = String::from_utf8_lossy(&read_vec(client, length.into())?).into_owned();
    let admitted = rules.admits(Some((&user, &password)));
    asked.user = Some(user);
    if !admitted {
        return Ok(Err(vec![1, 1]));
    }
    client.write_all(&[1, 0])?;
    Ok(Ok(()))
}

/// The host of an address of type `kind`, as it goes before `:port`; `None` for a type this
/// proxy does not know (nothing more of the request can then be read).
fn read_address(client: &mut TcpStream, kind: u8) -> io::Result<Option<(String, AddressType)>> {
    Ok(Some(match kind {
        1 => {
            let octets: [u8; 4] = read_array(client)?;
            (Ipv4Addr::from(octets).to_string(), AddressType::Ipv4)
        }
        3 => {
            let [length] = read_array(client)?;
            let name = read_vec(client, length.into())?;
            (
                String::from_utf8_lossy(&name).into_owned(),
                AddressType::Domain,
            )
        }
        4 => {
            let octets: [u8; 16] = read_array(client)?;
            (format!("[{}]", Ipv6Addr::from(octets)), AddressType::Ipv6)
        }
        _ => return Ok(None),
    }))
}

/// A reply to the request; the bound address is not the client's business (0.0.0.0:0).
fn reply_bytes(reply: u8) -> [u8; 10] {
    [VERSION, reply, 0, 1, 0, 0, 0, 0, 0, 0]
}

fn read_array<const N: usize>(client: &mut TcpStream) -> io::Result<[u8; N]> {
    let mut bytes = [0; N];
    client.read_exact(&mut bytes)?;
    Ok(bytes)
}

fn read_vec(client: &mut TcpStream, len: usize) -> io::Result<Vec<u8>> {
    let mut bytes = vec![0; len];
    client.read_exact(&mut bytes)?;
    Ok(bytes)
}
