package dev.reqctx.spi;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Validates inbound request ids and generates new ones, for every integration that accepts a
 * request id from a client (the servlet filter's header, gRPC metadata).
 */
public final class RequestIds {

	/** Long enough for any UUID, W3C trace id or vendor id; short enough to log and index. */
	public static final int MAX_LENGTH = 128;

	private static final char[] HEX = "0123456789abcdef".toCharArray();

	private RequestIds() {
	}

	/**
	 * Returns whether the id is safe to echo in a header and write to logs: 1 to 128 of
	 * {@code A-Z a-z 0-9 - _ . : / + = @}. Anything else (CR/LF, spaces, quotes, non-ASCII)
	 * could forge log lines or headers.
	 * @param id the inbound id
	 * @return whether it may be used as is
	 */
	public static boolean isValid(String id) {
		int length = id.length();
		if (length == 0 || length > MAX_LENGTH) {
			return false;
		}
		for (int i = 0; i < length; i++) {
			char c = id.charAt(i);
			boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
					|| c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '=' || c == '@';
			if (!ok) {
				return false;
			}
		}
		return true;
	}

	/**
	 * Generates a random version-4 UUID string. {@code UUID.randomUUID()} draws from
	 * {@code SecureRandom}, which is slow and contended; request ids need uniqueness, not
	 * unpredictability.
	 * @return a new id
	 */
	public static String generate() {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		long hi = (random.nextLong() & ~0xF000L) | 0x4000L;
		long lo = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
		char[] out = new char[36];
		hex(hi >>> 32, out, 0, 8);
		out[8] = '-';
		hex(hi >>> 16, out, 9, 4);
		out[13] = '-';
		hex(hi, out, 14, 4);
		out[18] = '-';
		hex(lo >>> 48, out, 19, 4);
		out[23] = '-';
		hex(lo, out, 24, 12);
		return new String(out);
	}

	private static void hex(long value, char[] out, int offset, int digits) {
		for (int i = digits - 1; i >= 0; i--) {
			out[offset + i] = HEX[(int) (value & 0xF)];
			value >>>= 4;
		}
	}

}
