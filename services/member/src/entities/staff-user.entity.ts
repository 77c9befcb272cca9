import { EntitySchema } from 'typeorm';

/** A back-office user; the password is stored as a scrypt hash. */
export interface StaffUserRow {
  id: string;
  username: string;
  passwordHash: string;
  roles: string;
  status: string;
  createdAt: Date;
}

export const StaffUserEntity = new EntitySchema<StaffUserRow>({
  name: 'StaffUser',
  tableName: 'staff_user',
  columns: {
    id: { type: 'varchar', length: 26, primary: true },
    username: { type: 'varchar', length: 64, unique: true },
    passwordHash: { name: 'password_hash', type: 'varchar', length: 255 },
    roles: { type: 'varchar', length: 255, comment: 'comma-separated roles' },
    status: { type: 'varchar', length: 20, default: 'ACTIVE' },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
});
